// The input formats' names, without the readers behind them (cheap to import for a command line).
export {
  BYTE_ORDERS,
  SAMPLE_TYPES,
  STACK_FORMATS,
  type ByteOrder,
  type SampleType,
  type StackFormat,
} from './stack-reader.js';
