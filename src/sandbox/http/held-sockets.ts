/**
 * The timeout fault: the request was processed, but its answer never leaves. The connection
 * is held open and then dropped, as when WeChat's answer is lost on the way.
 */
import type { Socket } from 'node:net';
import type { FastifyReply } from 'fastify';

export class HeldSockets {
  private readonly held = new Map<Socket, NodeJS.Timeout>();

  /** Takes the reply away from Fastify and drops the connection after `holdMs`. */
  swallow(reply: FastifyReply, holdMs: number): FastifyReply {
    reply.hijack();
    const socket = reply.raw.socket;
    if (!socket) return reply;
    const timer = setTimeout(() => this.drop(socket), holdMs);
    this.held.set(socket, timer);
    socket.once('close', () => {
      clearTimeout(timer);
      this.held.delete(socket);
    });
    return reply;
  }

  /** Drops every held connection now (the sandbox is closing). */
  dropAll(): void {
    for (const socket of [...this.held.keys()]) this.drop(socket);
  }

  private drop(socket: Socket): void {
    const timer = this.held.get(socket);
    if (timer) clearTimeout(timer);
    this.held.delete(socket);
    socket.destroy();
  }
}
