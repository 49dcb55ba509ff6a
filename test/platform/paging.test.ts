import { DW, b64u, createIdentity, expectError, withPlatform, type PlatformHandle } from './helpers';

let platform: PlatformHandle;
beforeAll(async () => {
  platform = await withPlatform();
});
afterAll(() => platform.close());

describe('paging', () => {
  it('default 50, max 200, pagination omitted for one page, sorted ascending', async () => {
    const id = await createIdentity(platform.baseUrl);
    const modifications = Array.from({ length: 250 }, (_, i) => ({
      type: 'Create',
      objectIdentifier: `OBJ${i}`,
      collection: 'Test',
      payloadCategory: null,
      encryptedPayload: b64u(`p${i}`),
      datawalletVersion: 1,
    }));
    const push = await id.req('POST', '/api/v2/Datawallet/Modifications', { json: { localIndex: -1, modifications }, headers: DW });
    expect(push.body.result.newIndex).toBe(249);

    const first = await id.req('GET', '/api/v2/Datawallet/Modifications');
    expect(first.body.result).toHaveLength(50);
    expect(first.body.pagination).toEqual({ pageNumber: 1, pageSize: 50, totalPages: 5, totalRecords: 250 });
    expect(first.body.result[0].index).toBe(0);
    const last = await id.req('GET', '/api/v2/Datawallet/Modifications?pageNumber=5');
    expect(last.body.result.map((m: any) => m.index)).toEqual(Array.from({ length: 50 }, (_, i) => 200 + i));
    const big = await id.req('GET', '/api/v2/Datawallet/Modifications?pageSize=200&pageNumber=2');
    expect(big.body.result).toHaveLength(50);
    expect(big.body.pagination).toEqual({ pageNumber: 2, pageSize: 200, totalPages: 2, totalRecords: 250 });
    // collecting all pages yields every index exactly once
    const all: number[] = [];
    for (let page = 1; ; page++) {
      const r = await id.req('GET', `/api/v2/Datawallet/Modifications?pageSize=70&pageNumber=${page}`);
      all.push(...r.body.result.map((m: any) => m.index));
      if (page >= r.body.pagination.totalPages) break;
    }
    expect(all).toEqual(Array.from({ length: 250 }, (_, i) => i));

    expectError(await id.req('GET', '/api/v2/Datawallet/Modifications?pageSize=201'), 400, 'error.platform.validation.pagination.invalidPageSize');
    expectError(await id.req('GET', '/api/v2/Datawallet/Modifications?pageSize=0'), 400, 'error.platform.validation.invalidPropertyValue');
    expectError(await id.req('GET', '/api/v2/Datawallet/Modifications?pageNumber=abc'), 400, 'error.platform.validation.invalidPropertyValue');

    const one = await id.req('GET', '/api/v2/Datawallet/Modifications?localIndex=240');
    expect(one.body.result).toHaveLength(9);
    expect('pagination' in one.body).toBe(false);
    const none = await id.req('GET', '/api/v2/Datawallet/Modifications?localIndex=249');
    expect(none.body).toEqual({ result: [] });
  });
});
