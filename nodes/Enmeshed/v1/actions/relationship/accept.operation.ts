import { changeOperation } from './change';

export const { description, execute } = changeOperation('accept', 'accept');
