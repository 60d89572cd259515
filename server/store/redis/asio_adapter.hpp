#pragma once
// Internal to store/redis: hiredis 0.14's event-loop hooks implemented on Asio.

#include "common/asio_types.hpp"

#include <memory>

struct redisAsyncContext;

namespace confide::store::redis::detail {

/// Called from hiredis's `cleanup` hook, once per context: the context is being freed (it is
/// still valid during the call, and its pending callbacks may or may not have run yet).
using cleanup_callback = void (*)(redisAsyncContext* ac) noexcept;

/// Attaches hiredis's event hooks of `ac` to a `posix::stream_descriptor` on `strand`, which must
/// be the strand every other call into hiredis for `ac` runs on. Each readiness event calls
/// redisAsyncHandleRead/Write on that strand while holding a lock on `owner` (the object whose
/// callbacks hiredis runs); once `owner` has expired, events are dropped. The descriptor belongs
/// to hiredis: the adapter never closes it. Call right after redisAsyncConnect*, before setting
/// any callback. Returns false when `ac` already has hooks or its descriptor cannot be
/// registered; `ac` is then untouched and still the caller's to free.
bool attach_asio(redisAsyncContext* ac, const executor& strand, std::weak_ptr<void> owner,
                 cleanup_callback on_cleanup);

}  // namespace confide::store::redis::detail
