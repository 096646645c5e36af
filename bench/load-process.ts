/** The load generator as a child process, with typed messages and a time limit on every wait. */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FromLoadGenerator, ToLoadGenerator } from './messages.js';

type MessageType = FromLoadGenerator['type'];
type MessageOf<T extends MessageType> = Extract<FromLoadGenerator, { type: T }>;

export class LoadGeneratorProcess {
  private readonly child: ChildProcess;
  private readonly arrived = new Map<MessageType, FromLoadGenerator>();
  private readonly waiting = new Map<MessageType, { resolve(message: FromLoadGenerator): void; reject(error: Error): void }>();
  private failure: Error | null = null;

  constructor() {
    const script = fileURLToPath(new URL('./load-generator.js', import.meta.url));
    this.child = fork(script, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (message: FromLoadGenerator) => {
      if (message.type === 'failed') return this.fail(new Error(`the load generator failed: ${message.message}`));
      const waiter = this.waiting.get(message.type);
      if (waiter) {
        this.waiting.delete(message.type);
        waiter.resolve(message);
      } else {
        this.arrived.set(message.type, message);
      }
    });
    this.child.on('exit', (code, signal) => this.fail(new Error(`the load generator exited (code ${code}, signal ${signal})`)));
    this.child.on('error', (error) => this.fail(error));
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const waiter of this.waiting.values()) waiter.reject(this.failure);
    this.waiting.clear();
  }

  send(message: ToLoadGenerator): void {
    this.child.send(message);
  }

  next<T extends MessageType>(type: T, timeoutMs: number): Promise<MessageOf<T>> {
    const early = this.arrived.get(type);
    if (early) {
      this.arrived.delete(type);
      return Promise.resolve(early as MessageOf<T>);
    }
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<MessageOf<T>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(type);
        reject(new Error(`the load generator sent no "${type}" within ${Math.round(timeoutMs / 1000)} s`));
      }, timeoutMs);
      this.waiting.set(type, {
        resolve: (message) => { clearTimeout(timer); resolve(message as MessageOf<T>); },
        reject: (error) => { clearTimeout(timer); reject(error); },
      });
    });
  }

  stop(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
  }
}
