#include "failoverd/daemon/log_queue.h"

#include <unistd.h>

#include <cerrno>
#include <string_view>

#include <spdlog/details/log_msg.h>
#include <spdlog/pattern_formatter.h>

namespace failoverd::daemon {

namespace {

// The whole line, across short writes and signals. A stream that fails (EPIPE, EBADF) loses the
// line: there is nowhere else to say so.
void write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    text.remove_prefix(static_cast<std::size_t>(n));
  }
}

}  // namespace

QueuedSink::QueuedSink(int fd, std::size_t capacity)
    : fd_(fd),
      capacity_(capacity == 0 ? 1 : capacity),
      formatter_(std::make_unique<spdlog::pattern_formatter>()),
      writer_([this] { run(); }) {}

QueuedSink::~QueuedSink() {
  drain(std::chrono::seconds(1));
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_writer_.notify_one();
  writer_.join();
}

void QueuedSink::log(const spdlog::details::log_msg& msg) {
  if (!should_log(msg.level)) return;
  std::unique_lock lock(mutex_);
  if (queue_.size() >= capacity_) {
    ++dropped_;
    return;
  }
  if (dropped_ > dropped_reported_) {
    // Said in the stream, where the gap is, at the first line that fits again. It may take the
    // queue one line over its capacity, once.
    const std::string text = std::to_string(dropped_ - dropped_reported_) +
                             " log lines dropped: the log stream did not keep up";
    const spdlog::details::log_msg notice(msg.time, spdlog::source_loc{}, msg.logger_name,
                                          spdlog::level::warn, text);
    spdlog::memory_buf_t buf;
    formatter_->format(notice, buf);
    queue_.emplace_back(buf.data(), buf.size());
    dropped_reported_ = dropped_;
  }
  spdlog::memory_buf_t buf;
  formatter_->format(msg, buf);
  queue_.emplace_back(buf.data(), buf.size());
  lock.unlock();
  wake_writer_.notify_one();
}

void QueuedSink::set_pattern(const std::string& pattern) {
  set_formatter(std::make_unique<spdlog::pattern_formatter>(pattern));
}

void QueuedSink::set_formatter(std::unique_ptr<spdlog::formatter> formatter) {
  std::lock_guard lock(mutex_);
  formatter_ = std::move(formatter);
}

std::uint64_t QueuedSink::dropped() const {
  std::lock_guard lock(mutex_);
  return dropped_;
}

bool QueuedSink::drain(std::chrono::milliseconds limit) {
  std::unique_lock lock(mutex_);
  return written_.wait_for(lock, limit, [this] { return queue_.empty() && !writing_; });
}

void QueuedSink::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_writer_.wait(lock, [this] { return stop_ || !queue_.empty(); });
    // Stopping: what drain() could not write in its time is given up, not waited on.
    if (stop_) return;
    std::string line = std::move(queue_.front());
    queue_.pop_front();
    writing_ = true;
    lock.unlock();
    write_all(fd_, line);  // the only wait on the stream, off every caller's thread
    lock.lock();
    writing_ = false;
    if (queue_.empty()) written_.notify_all();
  }
}

}  // namespace failoverd::daemon
