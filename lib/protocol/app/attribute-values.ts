/**
 * Characters the runtime accepts in attribute values (consumption AttributesController
 * validateAttributeCharacters, which follows the Latin character set of DIN SPEC 91379): single
 * code points. A value with any other character makes the App fail when it stores the attribute.
 */
const ATTRIBUTE_CHAR_RANGES: readonly (readonly [number, number])[] = [
  [0x09, 0x0a],
  [0x0d, 0x0d],
  [0x20, 0x7e],
  [0xa0, 0xac],
  [0xae, 0x17e],
  [0x187, 0x188],
  [0x18f, 0x18f],
  [0x197, 0x197],
  [0x1a0, 0x1a1],
  [0x1af, 0x1b0],
  [0x1b7, 0x1b7],
  [0x1cd, 0x1dc],
  [0x1de, 0x1df],
  [0x1e2, 0x1f0],
  [0x1f4, 0x1f5],
  [0x1f8, 0x1ff],
  [0x212, 0x213],
  [0x218, 0x21b],
  [0x21e, 0x21f],
  [0x227, 0x233],
  [0x259, 0x259],
  [0x268, 0x268],
  [0x292, 0x292],
  [0x2b9, 0x2ba],
  [0x2be, 0x2bf],
  [0x2c8, 0x2c8],
  [0x2cc, 0x2cc],
  [0x1e02, 0x1e03],
  [0x1e06, 0x1e07],
  [0x1e0a, 0x1e11],
  [0x1e17, 0x1e17],
  [0x1e1c, 0x1e2b],
  [0x1e2f, 0x1e37],
  [0x1e3a, 0x1e3b],
  [0x1e40, 0x1e49],
  [0x1e52, 0x1e5b],
  [0x1e5e, 0x1e63],
  [0x1e6a, 0x1e6f],
  [0x1e80, 0x1e87],
  [0x1e8c, 0x1e97],
  [0x1e9e, 0x1e9e],
  [0x1ea0, 0x1ef9],
  [0x2019, 0x2019],
  [0x2021, 0x2021],
  [0x20ac, 0x20ac],
];

function isAllowedChar(cp: number): boolean {
  return ATTRIBUTE_CHAR_RANGES.some(([from, to]) => cp >= from && cp <= to);
}

/**
 * Why the runtime would refuse this text inside an attribute value, or undefined when it accepts it.
 * Exact for precomposed characters. A combining mark (U+0300–U+036F) is allowed after a letter;
 * the runtime allows only some such pairs (e.g. "C̀"), so a rare combination may pass here and still
 * be refused. Normalize to NFC first (the builders do) so that "é" written as e + ◌́ passes.
 */
export function attributeTextProblem(text: string): string | undefined {
  let previousIsLetter = false;
  for (const ch of text) {
    const cp = ch.codePointAt(0) as number;
    if (isAllowedChar(cp)) {
      previousIsLetter = /\p{L}/u.test(ch);
      continue;
    }
    if (cp >= 0x300 && cp <= 0x36f && previousIsLetter) continue;
    const hex = cp.toString(16).toUpperCase().padStart(4, '0');
    return `contains "${ch}" (U+${hex}), which enmeshed does not allow in attribute values (only Latin letters, digits and common punctuation)`;
  }
  return undefined;
}

export function cleanAttributeText(text: string): string {
  return text.normalize('NFC').trim();
}
