/** @module The local stack for integration tests, benchmarks and `npm start`. */
export { startStack, StackStartError, type Stack, type StackOptions } from './stack.ts';
export { startEtcd, type EtcdOptions, type EtcdServer } from './etcd.ts';
export { etcdCommand } from './etcd-binary.ts';
export { startMongo, type MongoKind, type MongoOptions, type MongoServer } from './mongo.ts';
export { ferretdbBinary } from './ferretdb-binary.ts';
export {
  startServerProcess,
  ServerError,
  type ExitStatus,
  type ServerErrorCode,
  type ServerProcess,
  type ServerProcessOptions,
} from './process.ts';
export { createLogTail, type LogTail } from './log-tail.ts';
export { freePort, retryOnPortClash } from './free-port.ts';
export { findExecutable, firstExecutable } from './find-executable.ts';
export { uniqueDatabase, uniquePrefix } from './isolation.ts';
export { waitUntil, WaitTimeoutError, type Truthy, type WaitOptions } from './wait.ts';
