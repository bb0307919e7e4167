// The verification page's service worker (scope /verify): keeps the page,
// its scripts and the offline verifier so that /verify opens without a
// network after one visit. Network first, so an update is seen at once;
// the cache only when the network fails. The API is never cached here: the
// page keeps its own copies of the trust material, with the time fetched.
'use strict';
const CACHE = 'ecert-verify-1';
const PAGE = [
  '/verify', '/assets/ecert.css', '/assets/common.js', '/assets/verify.js', '/assets/offline.js',
  '/assets/wasm_exec.js', '/assets/ecert.wasm',
];

self.addEventListener('install', function (ev) {
  ev.waitUntil(caches.open(CACHE).then(function (c) { return c.addAll(PAGE); }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener('activate', function (ev) {
  ev.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k !== CACHE; }).map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener('fetch', function (ev) {
  const url = new URL(ev.request.url);
  if (ev.request.method !== 'GET' || url.origin !== self.location.origin) return;
  // /verify/{licence_id}?code=… is the same page.
  const key = url.pathname.startsWith('/verify/') ? '/verify' : url.pathname;
  if (PAGE.indexOf(key) < 0) return;
  ev.respondWith(fetch(ev.request).then(function (res) {
    if (res.ok) {
      const copy = res.clone();
      caches.open(CACHE).then(function (c) { return c.put(key, copy); });
    }
    return res;
  }).catch(function () {
    return caches.match(key).then(function (hit) { return hit || Response.error(); });
  }));
});
