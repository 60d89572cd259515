#pragma once
// Writing the directory of specialists: what confide-admin does. Not a port of routing (the chat
// domain only reads the directory); a composition root (server/admin/) uses it directly.

#include "common/asio_types.hpp"
#include "common/error.hpp"
#include "routing/domain.hpp"
#include "store/db.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace confide::store {

/// A user whose stored role is "specialist" (bound before the directory existed).
struct bound_specialist {
    std::string id;
    bool signed_in = false;  ///< has ever connected (else: named by someone's inquiry only)
    bool listed = false;
};

/// Adds, replaces, removes and reads directory entries in Redis. Every change moves the
/// directory's version, so that every node reloads its copy on its next listing. Entries are
/// stored as given: validate them first (routing::validate_profile).
///
/// Thread safety: safe; the coroutines may run concurrently on any executor.
class directory_admin {
public:
    explicit directory_admin(db conn);

    /// Lists a new specialist: conflict if listed already, failed_precondition if the id has
    /// signed in as a client.
    awaitable<outcome<void>> add(routing::specialist_profile p);
    /// Replaces a listed specialist's entry: not_found if not listed.
    awaitable<outcome<void>> update(routing::specialist_profile p);
    /// Removes the entry; true if there was one.
    awaitable<outcome<bool>> remove(std::string id);
    /// The entry, or nullopt if not listed.
    awaitable<outcome<std::optional<routing::specialist_profile>>> get(std::string id);
    /// Every entry, by id.
    awaitable<outcome<std::vector<routing::specialist_profile>>> list();
    /// Every user whose stored role is "specialist" (scans the key space: an operator's
    /// one-off, for migration).
    awaitable<outcome<std::vector<bound_specialist>>> bound_specialists();

private:
    awaitable<outcome<void>> put(routing::specialist_profile p, const char* mode);
    /// On a cluster: `id` added to (or removed from) the directory's index, then its version
    /// moved, each a step in its own slot.
    awaitable<outcome<void>> index_step(std::string id, bool listed);
    /// bound_specialists() on the master serving `slot`, added to `out`.
    awaitable<outcome<void>> bound_specialists_on(std::uint16_t slot,
                                                  std::vector<bound_specialist>& out);

    db conn_;
};

}  // namespace confide::store
