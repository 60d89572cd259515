#pragma once
// Internal to store/ (store/redis, send_batcher): the completion handler of an asynchronous
// operation, kept while hiredis (or a batch of sends) works on it.

#include "common/asio_types.hpp"

#include <boost/asio/append.hpp>
#include <boost/asio/associated_allocator.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/recycling_allocator.hpp>

#include <memory>
#include <utility>

namespace confide::store::redis::detail {

/// The completion handler of one operation with the signature void(Args...), type-erased in a
/// single allocation (the handler's associated allocator, Asio's recycling allocator by default).
/// Ended by exactly one of complete() and destroy().
///
/// Thread safety: none; one owner at a time.
template <class... Args>
class completion {
public:
    completion(const completion&) = delete;
    completion& operator=(const completion&) = delete;

    /// Frees this object and posts the handler, with `args`, to its associated executor: the
    /// handler never runs inside hiredis, nor inline in the function that started the operation.
    void complete(Args... args) { vtable_->complete(this, std::move(args)...); }

    /// As complete(), but the handler runs at once when this thread already runs its executor
    /// (asio::dispatch). Only outside hiredis: for send_batcher's fan-out of a batch's replies,
    /// where a post would put one more hop between a send's reply and its sender (and let the
    /// message's notice overtake it: docs/design.md, "Echo suppression").
    void dispatch(Args... args) { vtable_->dispatch(this, std::move(args)...); }

    /// Frees this object without calling the handler (its owner is being destroyed).
    void destroy() noexcept { vtable_->destroy(this); }

protected:
    struct vtable {
        void (*complete)(completion*, Args&&...);
        void (*dispatch)(completion*, Args&&...);
        void (*destroy)(completion*) noexcept;
    };
    explicit completion(const vtable* vt) noexcept : vtable_(vt) {}
    ~completion() = default;

private:
    const vtable* vtable_;
};

struct completion_deleter {
    template <class... Args>
    void operator()(completion<Args...>* c) const noexcept {
        c->destroy();
    }
};

/// Owns a completion until it is completed: destroying it drops the handler without calling it.
template <class... Args>
using completion_ptr = std::unique_ptr<completion<Args...>, completion_deleter>;

template <class Handler, class WorkExecutor, class... Args>
class completion_impl final : public completion<Args...> {
    using base = completion<Args...>;
    using allocator_type = typename std::allocator_traits<asio::associated_allocator_t<
        Handler, asio::recycling_allocator<void>>>::template rebind_alloc<completion_impl>;

public:
    static completion_ptr<Args...> create(Handler handler, WorkExecutor work) {
        allocator_type alloc(
            asio::get_associated_allocator(handler, asio::recycling_allocator<void>()));
        completion_impl* mem = std::allocator_traits<allocator_type>::allocate(alloc, 1);
        try {
            return completion_ptr<Args...>(
                new (mem) completion_impl(std::move(handler), std::move(work)));
        } catch (...) {
            std::allocator_traits<allocator_type>::deallocate(alloc, mem, 1);
            throw;
        }
    }

private:
    completion_impl(Handler handler, WorkExecutor work)
        : base(&table), handler_(std::move(handler)), work_(std::move(work)) {}

    allocator_type allocator() const noexcept {
        return allocator_type(
            asio::get_associated_allocator(handler_, asio::recycling_allocator<void>()));
    }

    static void free(completion_impl* self, allocator_type alloc) noexcept {
        self->~completion_impl();
        std::allocator_traits<allocator_type>::deallocate(alloc, self, 1);
    }

    template <bool Post>
    static void do_complete(base* b, Args&&... args) {
        auto* self = static_cast<completion_impl*>(b);
        allocator_type alloc = self->allocator();  // before the handler is moved from
        Handler handler(std::move(self->handler_));
        WorkExecutor work(std::move(self->work_));
        free(self, alloc);
        // The handler's own executor was kept busy by `work` until now.
        auto bound = asio::bind_executor(std::move(work),
                                         asio::append(std::move(handler), std::move(args)...));
        if constexpr (Post) {
            asio::post(std::move(bound));
        } else {
            asio::dispatch(std::move(bound));
        }
    }

    static void do_destroy(base* b) noexcept {
        auto* self = static_cast<completion_impl*>(b);
        free(self, self->allocator());
    }

    static constexpr
        typename base::vtable table{&do_complete<true>, &do_complete<false>, &do_destroy};

    Handler handler_;
    WorkExecutor work_;
};

/// Wraps `handler` (of signature void(Args...)); it completes on its associated executor, or on
/// `default_executor` when it has none, which is kept from running out of work meanwhile.
template <class... Args, class Handler>
completion_ptr<Args...> make_completion(Handler handler, const executor& default_executor) {
    auto work = asio::prefer(asio::get_associated_executor(handler, default_executor),
                             asio::execution::outstanding_work.tracked);
    return completion_impl<Handler, decltype(work), Args...>::create(std::move(handler),
                                                                     std::move(work));
}

/// Starts an asynchronous operation of signature void(Args...) the Asio way: `token` becomes a
/// handler, wrapped by make_completion (`default_executor` when it has no executor of its own),
/// and `submit(completion_ptr<Args...>, inputs...)` takes it over. `submit` runs when the
/// operation is initiated: at once, or for an awaitable when it is awaited.
template <class... Args, class CompletionToken, class Submit, class... Inputs>
auto async_submit(CompletionToken&& token, executor default_executor, Submit submit,
                  Inputs... inputs) {
    return asio::async_initiate<CompletionToken, void(Args...)>(
        [ex = std::move(default_executor), submit = std::move(submit)](auto handler,
                                                                       Inputs... in) mutable {
            submit(make_completion<Args...>(std::move(handler), ex), std::move(in)...);
        },
        token, std::move(inputs)...);
}

}  // namespace confide::store::redis::detail
