export * from './config';
export { printableConfig } from './print-config';
