/**
 * EMBEDDED_CACHE_MB bounds the heap the embedded engine spends on parsed documents: the cache never
 * holds more than its bound, and what it drops first is what was read least recently.
 */
import assert from 'node:assert/strict';
import { cacheKey, DocumentCache } from '../../src/storage/embedded/document-cache';

describe('The document cache of the embedded engine', () => {
  it('stays within its bound however many documents pass through it', () => {
    const cache = new DocumentCache(1024 * 1024);
    for (let i = 0; i < 10_000; i++) cache.set(cacheKey('MedicationStatement', `ms-${i}`), { i }, 2000);
    assert.ok(cache.heapBytes <= 1024 * 1024, `${cache.heapBytes} bytes held`);
    assert.ok(cache.size > 0 && cache.size < 10_000);
  });

  it('drops the least recently read document first, and keeps the one read again', () => {
    const cache = new DocumentCache(3 * 2 * 100);
    cache.set('a', { id: 'a' }, 100);
    cache.set('b', { id: 'b' }, 100);
    cache.set('c', { id: 'c' }, 100);
    assert.deepEqual(cache.get('a'), { id: 'a' });
    cache.set('d', { id: 'd' }, 100);
    assert.equal(cache.get('b'), undefined, 'b was the least recently used');
    assert.deepEqual([cache.get('a'), cache.get('c'), cache.get('d')], [{ id: 'a' }, { id: 'c' }, { id: 'd' }]);
  });

  it('holds nothing with a bound of 0, and a document larger than the bound is not cached', () => {
    const none = new DocumentCache(0);
    none.set('a', { id: 'a' }, 1);
    assert.equal(none.get('a'), undefined);
    const small = new DocumentCache(1000);
    small.set('big', { id: 'big' }, 600);
    assert.equal(small.get('big'), undefined);
    assert.equal(small.heapBytes, 0);
  });
});
