#pragma once

#include <chrono>
#include <future>
#include <memory>
#include <optional>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

namespace ng::core {

// Runs fn on the agent loop and waits for its result from another thread (an HTTP handler).
// nullopt when the loop did not answer in time: a hung or stopped loop. The shared promise
// keeps a late answer from touching a dead caller.
template <class Fn>
auto call_on_loop(boost::asio::io_context& io, Fn fn, std::chrono::milliseconds timeout)
    -> std::optional<decltype(fn())> {
  using T = decltype(fn());
  auto promise = std::make_shared<std::promise<T>>();
  auto future = promise->get_future();
  boost::asio::post(io, [promise, fn = std::move(fn)]() mutable { promise->set_value(fn()); });
  if (future.wait_for(timeout) != std::future_status::ready) return std::nullopt;
  return future.get();
}

}  // namespace ng::core
