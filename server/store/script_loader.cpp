#include "store/script_loader.hpp"

#include "common/log.hpp"
#include "store/scripts.hpp"

namespace confide::store {

void load_scripts_on_connect(const std::shared_ptr<redis::connection>& conn) {
    std::weak_ptr<redis::connection> weak = conn;
    conn->on_connected([weak] {
        auto c = weak.lock();
        if (!c) {
            return;
        }
        for (const auto* script : scripts::all()) {
            c->async_exec({"SCRIPT", "LOAD", script->body()}, [](boost::system::error_code ec,
                                                                 const redis::reply& r) {
                if (ec) {
                    log::warn("cannot load a script into Redis: {} {}", ec.message(), r.str);
                }
            });
        }
    });
}

}  // namespace confide::store
