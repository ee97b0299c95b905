/**
 * Requests Node's HTTP parser refuses before Express sees them: headers or a request line over the
 * limit (431), a request not received in time (408), or a malformed request (400). Node answers those with an empty body; a FHIR client
 * gets an OperationOutcome like for every other error (DESIGN.md decision 5).
 */
import type { Socket } from 'node:net';
import { outcome, issue } from '../fhir/outcome';

interface ParserError extends Error {
  code?: string;
}

function answer(status: number, reason: string, diagnostics: string): string {
  const code = status === 431 ? 'too-costly' : status === 408 ? 'timeout' : 'invalid';
  const body = JSON.stringify(outcome([issue('error', code, diagnostics)]));
  return [
    `HTTP/1.1 ${status} ${reason}`,
    'Content-Type: application/fhir+json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    '',
    body,
  ].join('\r\n');
}

/** The server's 'clientError' listener. */
export function answerClientError(error: ParserError, socket: Socket): void {
  const pending = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT' && socket.writable && !pending?.headersSent) {
    // Headers or body too slow (HEADERS_TIMEOUT_MS, REQUEST_TIMEOUT_MS): nothing was answered yet.
    socket.end(answer(408, 'Request Timeout', 'The request was not received in time; send the headers and the body without pausing'));
    return;
  }
  if (!socket.writable || pending) {
    // A response is already under way (or the client left): all that is left to do is close.
    socket.destroy();
    return;
  }
  if (error.code === 'HPE_HEADER_OVERFLOW') {
    socket.end(answer(431, 'Request Header Fields Too Large', 'The request line or headers are larger than this server accepts (16 KB)'));
  } else if (error.code === 'ECONNRESET') {
    socket.destroy();
  } else {
    socket.end(answer(400, 'Bad Request', 'The request is not well-formed HTTP'));
  }
}
