// Many agents' TLS endpoints in one process, for timing `ngctl fleet` against hundreds of
// targets on one small machine: one gRPC server with N loopback ports, each a full agent API
// (the real AgentService, CallGate, mutual TLS and interceptor), all answering for one health
// model. Writes the addresses to --targets-out and serves until stdin closes.
//
//   sleep infinity | ng_fleet_sim --agents 500 --cert server.pem --key server.key
//                                --client-ca ca.pem --targets-out targets.txt
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/server_builder.h>

#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>

#include "agent/api/agent_service.h"
#include "agent/api/call_gate_interceptor.h"
#include "agent/api/tls_server_credentials.h"
#include "core/asio_clock.h"
#include "core/log.h"

int main(int argc, char** argv) {
  using namespace ng;
  CLI::App app{"Serve N agent API endpoints (TLS) from one process for fleet benchmarks"};
  int agents = 500;
  std::string cert, key, client_ca, targets_out;
  app.add_option("--agents", agents, "Endpoints to serve")->capture_default_str();
  app.add_option("--cert", cert)->required();
  app.add_option("--key", key)->required();
  app.add_option("--client-ca", client_ca, "Require client certificates from this CA");
  app.add_option("--targets-out", targets_out, "Write one HOST:PORT per line here")->required();
  CLI11_PARSE(app, argc, argv);

  agent::AgentConfig config;
  config.api.tls_cert = cert;
  config.api.tls_key = key;
  config.api.tls_client_ca = client_ca;
  config.api.max_requests_per_second = 1e6;
  boost::asio::io_context io;
  auto work = boost::asio::make_work_guard(io);
  core::AsioClock clock(io);
  core::IoContextExecutor loop(io);
  prometheus::Registry metrics;
  agent::HealthModel health(clock, metrics, 1024);
  core::ComponentRegistry components(core::Logger::discard());
  agent::AgentIdentity identity{"simulated-node", true, clock.wall_now(), clock.now()};
  agent::CallGate gate(config.api, clock, metrics);
  agent::AgentService service(loop, clock, identity, components, health, metrics);
  // Something to report: a warning condition and a repair.
  health.set_condition({"NetfilterDrift", true, "RulesMissing",
                        "2 rules missing in nat/CNI-HOSTPORT-DNAT", core::Severity::kWarning});
  health.record_event({"netfilter",
                       "DriftRepaired",
                       "put back 2 rules",
                       core::Severity::kInfo,
                       {{"table", "nat"}}});

  auto creds = agent::make_tls_server_credentials(config.api, gate);
  if (!creds) {
    std::cerr << "ng_fleet_sim: " << creds.error().message << "\n";
    return 1;
  }
  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  std::vector<int> ports(static_cast<size_t>(agents), 0);
  for (auto& p : ports) builder.AddListeningPort("127.0.0.1:0", *creds, &p);
  builder.RegisterService(&service);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> gates;
  gates.push_back(std::make_unique<agent::CallGateInterceptorFactory>(gate));
  builder.experimental().SetInterceptorCreators(std::move(gates));
  auto server = builder.BuildAndStart();
  if (!server) {
    std::cerr << "ng_fleet_sim: server did not start\n";
    return 1;
  }
  {
    std::ofstream out(targets_out);
    for (int p : ports) out << "127.0.0.1:" << p << "\n";
  }
  std::thread loop_thread([&] { io.run(); });
  std::cerr << "ng_fleet_sim: serving " << agents << " endpoints; close stdin to stop\n";
  std::string line;
  while (std::getline(std::cin, line)) {
  }
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  work.reset();
  io.stop();
  loop_thread.join();
  return 0;
}
