#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/registry.h>

namespace ng::netfilter {

// The two counter families every guard records to (the iptables guard, the native nftables
// table guard), registered once per registry with one help text: labels backend, family,
// table, kind (drift) or result (repairs), and writer (writer_label.h).
prometheus::Family<prometheus::Counter>& drift_events_family(prometheus::Registry& r);
prometheus::Family<prometheus::Counter>& repairs_family(prometheus::Registry& r);

}  // namespace ng::netfilter
