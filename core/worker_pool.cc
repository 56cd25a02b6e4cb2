#include <boost/asio/post.hpp>

#include "core/executor.h"

namespace ng::core {

void IoContextExecutor::post(std::function<void()> fn) {
  boost::asio::post(io_, std::move(fn));
}

WorkerPool::WorkerPool(size_t threads) : pool_(threads) {}
WorkerPool::~WorkerPool() {
  join();
}
void WorkerPool::post(std::function<void()> fn) {
  boost::asio::post(pool_, std::move(fn));
}
void WorkerPool::join() {
  pool_.join();
}

}  // namespace ng::core
