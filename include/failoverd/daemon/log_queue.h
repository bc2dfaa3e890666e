// A log sink that never makes its caller wait for the log stream: lines are queued and one
// writer thread writes them. A journal or disk that stalls must not delay an advert (the event
// loop logs every transition), so when the queue is full a line is dropped and counted, and the
// stream itself says how many were lost once it moves again.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <spdlog/formatter.h>
#include <spdlog/sinks/sink.h>

namespace failoverd::daemon {

class QueuedSink final : public spdlog::sinks::sink {
 public:
  // Writes to `fd` (not closed here), holding at most `capacity` lines. The writer thread starts
  // here: made after the event loop went realtime, it runs at normal priority
  // (SCHED_RESET_ON_FORK), so a slow write never competes with the loop.
  QueuedSink(int fd, std::size_t capacity);
  // Writes what is queued, if the stream takes it within drain's limit, then stops the writer.
  ~QueuedSink() override;
  QueuedSink(const QueuedSink&) = delete;
  QueuedSink& operator=(const QueuedSink&) = delete;

  // Formats the line on the caller's thread and queues it, or drops it when the queue is full.
  // Never blocks on the stream.
  void log(const spdlog::details::log_msg& msg) override;
  // Lines are written as soon as the writer takes them; there is nothing to flush.
  void flush() override {}
  void set_pattern(const std::string& pattern) override;
  void set_formatter(std::unique_ptr<spdlog::formatter> formatter) override;

  // Lines dropped because the queue was full, since the start.
  std::uint64_t dropped() const;
  // Waits until every queued line is written, or `limit` has passed; true when all were. For the
  // last lines before an exit, and before a message written to the stream directly.
  bool drain(std::chrono::milliseconds limit);

 private:
  void run();

  const int fd_;
  const std::size_t capacity_;
  mutable std::mutex mutex_;
  std::condition_variable wake_writer_;
  std::condition_variable written_;
  std::unique_ptr<spdlog::formatter> formatter_;
  std::deque<std::string> queue_;
  bool writing_ = false;  // the writer holds a line it took from the queue
  bool stop_ = false;
  std::uint64_t dropped_ = 0;
  std::uint64_t dropped_reported_ = 0;  // the count the last "dropped" notice gave
  std::thread writer_;
};

}  // namespace failoverd::daemon
