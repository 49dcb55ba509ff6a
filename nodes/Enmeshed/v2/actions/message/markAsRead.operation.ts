import { markOperation } from './mark';

export const { description, execute } = markOperation('markAsRead', true);
