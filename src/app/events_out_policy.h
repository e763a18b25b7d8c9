// Events out: what storage needs of the config's events_out[] and program.expiry.warn_days
// (docs/events.md). Set on storage at start and by every applied reload, like PointsPolicy.
#pragma once

#include "config/config.h"
#include "storage/storage.h"

namespace loyaltyd {

// Enabled endpoints with their topics, the shops' platform and domain for the payload, and
// the points.expiring lead time (only when lots expire by age).
EventsOutPolicy EventsOutPolicyFrom(const Config& config);

}  // namespace loyaltyd
