#pragma once

#include <functional>

#include "tools/ngctl/connection.h"

namespace CLI {
class App;
}

namespace ng::ngctl {

// Each subcommand registers itself on the app and sets `run` when it is selected.
using Runner = std::function<int()>;
void add_status_command(CLI::App& app, const ClientOptions& opts, Runner& run);
void add_routes_command(CLI::App& app, const ClientOptions& opts, Runner& run);
void add_peers_command(CLI::App& app, const ClientOptions& opts, Runner& run);
void add_watch_command(CLI::App& app, const ClientOptions& opts, Runner& run);
void add_fleet_command(CLI::App& app, const ClientOptions& opts, Runner& run);
void add_rules_command(CLI::App& app, const ClientOptions& opts, Runner& run);
void add_repair_command(CLI::App& app, const ClientOptions& opts, Runner& run);
void add_forget_command(CLI::App& app, const ClientOptions& opts, Runner& run);
void add_logs_command(CLI::App& app, const ClientOptions& opts, Runner& run);

}  // namespace ng::ngctl
