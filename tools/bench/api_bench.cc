// GetHealth over TLS from many concurrent clients: throughput and latency percentiles.
//
//   ng_api_bench --addr 127.0.0.1:9748 --ca ca.pem --cert c.pem --key c.key
//                --server-name agent.test --clients 64 --duration 10s [--rate 2000]
//
// Without --rate each client calls back-to-back (closed loop: the agent's capacity). With
// --rate the clients together send that many calls per second on a fixed schedule (open
// loop) and latency is measured from the scheduled send time, so a stalled agent shows up in
// the tail instead of quietly slowing the clients down (no coordinated omission).
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>
#include <vector>

#include "core/config_binder.h"
#include "nodeguard/v1/agent.grpc.pb.h"

namespace {

using Clock = std::chrono::steady_clock;

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

double pct(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(p / 100.0 * v.size()));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(i), v.end());
  return v[i];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"GetHealth throughput and latency over TLS with concurrent clients"};
  std::string addr = "127.0.0.1:9748", ca, cert, key, server_name, duration_text = "10s",
              warmup_text = "1s";
  int clients = 64;
  double rate = 0;
  app.add_option("--addr", addr, "Agent HOST:PORT")->capture_default_str();
  app.add_option("--ca", ca, "CA that signed the agent's certificate")->required();
  app.add_option("--cert", cert, "Client certificate");
  app.add_option("--key", key, "Client key");
  app.add_option("--server-name", server_name, "Name to check in the agent's certificate");
  app.add_option("--clients", clients, "Concurrent clients, each on its own connection")
      ->capture_default_str();
  app.add_option("--duration", duration_text, "Measured time")->capture_default_str();
  app.add_option("--warmup", warmup_text, "Unmeasured time first")->capture_default_str();
  app.add_option("--rate", rate, "Total calls per second (open loop); 0: back-to-back");
  CLI11_PARSE(app, argc, argv);
  const auto duration = ng::core::parse_duration(duration_text);
  const auto warmup = ng::core::parse_duration(warmup_text);
  if (!duration || !warmup || clients < 1) {
    std::cerr << "bad --duration, --warmup or --clients\n";
    return 2;
  }

  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = slurp(ca);
  if (!cert.empty()) {
    ssl.pem_cert_chain = slurp(cert);
    ssl.pem_private_key = slurp(key);
  }
  std::vector<std::unique_ptr<nodeguard::v1::Agent::Stub>> stubs;
  for (int i = 0; i < clients; ++i) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // one connection per client
    if (!server_name.empty()) args.SetSslTargetNameOverride(server_name);
    auto channel = grpc::CreateCustomChannel(addr, grpc::SslCredentials(ssl), args);
    if (!channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10))) {
      std::cerr << "client " << i << " cannot connect to " << addr << "\n";
      return 1;
    }
    stubs.push_back(nodeguard::v1::Agent::NewStub(channel));
  }

  const auto start = Clock::now();
  const auto measure_from = start + *warmup;
  const auto end = measure_from + *duration;
  std::vector<std::vector<double>> latencies(static_cast<size_t>(clients));
  std::atomic<long> errors{0};
  std::atomic<long> first_error_code{-1};
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      auto& lat = latencies[static_cast<size_t>(c)];
      const auto interval = rate > 0 ? std::chrono::duration<double>(clients / rate)
                                     : std::chrono::duration<double>(0);
      // Spread the clients' schedules over one interval.
      auto next = start + std::chrono::duration_cast<Clock::duration>(interval * c / clients);
      for (;;) {
        if (rate > 0) {
          std::this_thread::sleep_until(next);
        } else {
          next = Clock::now();
        }
        if (next >= end) break;
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
        nodeguard::v1::GetHealthResponse resp;
        const auto st = stubs[static_cast<size_t>(c)]->GetHealth(&ctx, {}, &resp);
        const auto done = Clock::now();
        if (next >= measure_from) {
          if (st.ok()) {
            lat.push_back(std::chrono::duration<double, std::milli>(done - next).count());
          } else {
            ++errors;
            first_error_code = st.error_code();
          }
        }
        if (rate > 0) next += std::chrono::duration_cast<Clock::duration>(interval);
      }
    });
  }
  for (auto& t : threads) t.join();
  std::vector<double> all;
  for (auto& v : latencies) all.insert(all.end(), v.begin(), v.end());
  const double secs = std::chrono::duration<double>(*duration).count();
  std::printf("GetHealth over TLS: %d clients, %s, %.1f s measured\n", clients,
              rate > 0
                  ? ("open loop at " + std::to_string(static_cast<int>(rate)) + " req/s").c_str()
                  : "closed loop",
              secs);
  std::printf("  calls %zu  throughput %.0f req/s  errors %ld", all.size(), all.size() / secs,
              errors.load());
  if (errors > 0) std::printf(" (first code %ld)", first_error_code.load());
  std::printf("\n  latency ms: p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f\n", pct(all, 50),
              pct(all, 90), pct(all, 99), pct(all, 99.9),
              all.empty() ? 0.0 : *std::max_element(all.begin(), all.end()));
  return errors > 0 ? 1 : 0;
}
