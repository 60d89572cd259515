#include "store/script_loader.hpp"

#include "common/log.hpp"
#include "store/scripts.hpp"
#include "store/store_metrics.hpp"

namespace confide::store {

std::shared_ptr<const scripts_status> load_scripts_on_connect(
    const std::shared_ptr<redis::connection>& conn) {
    auto status = std::make_shared<scripts_status>();
    std::weak_ptr<redis::connection> weak = conn;
    conn->on_connected([weak, status] {
        auto c = weak.lock();
        if (!c) {
            return;
        }
        stats::redis_connects.inc();
        // On the connection's strand, as are the replies below.
        status->loaded_.store(false, std::memory_order_release);
        const auto epoch = ++status->epoch_;
        struct progress {
            std::size_t left;
            bool failed = false;
        };
        auto p = std::make_shared<progress>(progress{scripts::all().size()});
        for (const auto* script : scripts::all()) {
            c->async_exec({"SCRIPT", "LOAD", script->body()},
                          [status, epoch, p](boost::system::error_code ec, const redis::reply& r) {
                              if (ec) {
                                  p->failed = true;
                                  log::warn("cannot load a script into Redis: {} {}", ec.message(),
                                            r.str);
                              }
                              if (--p->left == 0 && !p->failed && epoch == status->epoch_) {
                                  status->loaded_.store(true, std::memory_order_release);
                              }
                          });
        }
    });
    return status;
}

}  // namespace confide::store
