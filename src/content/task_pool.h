#pragma once
// TaskPool: the copy engine's bounded worker pool (internal). Tasks may post
// further tasks, and the last one posted is the next one taken (a stack);
// the pool is done when no task is queued or running. The
// first exception a task throws stops it: queued tasks are dropped, running
// ones finish, and run() rethrows that exception.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace sealrun::content::detail {

/// TaskPool runs tasks on at most `max_threads` threads, the caller of run()
/// counted as one. A thread is started only when a task is queued and no
/// started thread is free to take it, so a small job starts few threads.
class TaskPool {
public:
    /// TaskPool allows `max_threads` threads at once (at least 1).
    explicit TaskPool(std::size_t max_threads);
    TaskPool(const TaskPool&) = delete;
    TaskPool& operator=(const TaskPool&) = delete;

    /// post queues `task`; thread-safe, callable from tasks. Ignored once a
    /// task has failed.
    void post(std::function<void()> task);

    /// run posts `first`, works on the queue on the calling thread until no
    /// task is queued or running (or a task failed and the running ones
    /// finished), joins the threads it started and rethrows the first
    /// exception a task threw.
    void run(std::function<void()> first);

private:
    void work();

    const std::size_t max_threads_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<std::function<void()>> queue_;
    std::size_t running_ = 0;  // tasks being run
    std::size_t free_ = 0;     // threads waiting for a task, or started and not yet waiting
    std::vector<std::jthread> threads_;
    std::exception_ptr error_;
};

}  // namespace sealrun::content::detail
