#pragma once

#include <functional>
#include <memory>

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>

namespace ng::core {

// Where a piece of work runs. Components get two: the loop (owns all agent state) and the
// worker pool (blocking work: exec, libiptc commit, full table reads, fsync). A worker hands its
// result back with loop.post(...). Unit tests pass a ManualExecutor and run it step by step.
class Executor {
 public:
  virtual ~Executor() = default;
  virtual void post(std::function<void()> fn) = 0;
};

class IoContextExecutor final : public Executor {
 public:
  explicit IoContextExecutor(boost::asio::io_context& io) : io_(io) {}
  void post(std::function<void()> fn) override;

 private:
  boost::asio::io_context& io_;
};

// A small fixed pool for blocking work.
class WorkerPool final : public Executor {
 public:
  explicit WorkerPool(size_t threads);
  ~WorkerPool() override;
  void post(std::function<void()> fn) override;
  // Waits for queued work to finish; called at shutdown after components stopped.
  void join();

 private:
  boost::asio::thread_pool pool_;
};

}  // namespace ng::core
