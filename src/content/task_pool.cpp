#include "content/task_pool.h"

#include <algorithm>

namespace sealrun::content::detail {

TaskPool::TaskPool(std::size_t max_threads) : max_threads_(std::max<std::size_t>(max_threads, 1)) {}

void TaskPool::post(std::function<void()> task) {
    std::lock_guard lock(mu_);
    if (error_) return;
    queue_.push_back(std::move(task));
    // The caller of run() is one of the threads: start another only when
    // the queue outgrows the free ones.
    if (queue_.size() > free_ && threads_.size() + 1 < max_threads_) {
        ++free_;
        threads_.emplace_back([this] { work(); });
    }
    cv_.notify_one();
}

void TaskPool::work() {
    std::unique_lock lock(mu_);
    for (;;) {
        cv_.wait(lock, [&] { return error_ || !queue_.empty() || running_ == 0; });
        if (error_ || queue_.empty()) break;  // failed, or nothing queued or running: done
        // Last in, first out: a task's own follow-ups (a manifest's blobs,
        // then its push) run before older work is started, so a graph is
        // copied depth first and what is read but not yet pushed stays
        // bounded by the workers, not by the graph's width.
        auto task = std::move(queue_.back());
        queue_.pop_back();
        --free_;
        ++running_;
        lock.unlock();
        std::exception_ptr failure;
        try {
            task();
        } catch (...) {
            failure = std::current_exception();
        }
        task = nullptr;  // what the task captured goes before the pool may end
        lock.lock();
        --running_;
        ++free_;
        if (failure && !error_) {
            error_ = failure;
            queue_.clear();
        }
        if (error_ || (queue_.empty() && running_ == 0)) cv_.notify_all();
    }
    --free_;
    cv_.notify_all();
}

void TaskPool::run(std::function<void()> first) {
    {
        std::lock_guard lock(mu_);
        ++free_;  // the calling thread
    }
    post(std::move(first));
    work();
    std::vector<std::jthread> threads;
    {
        std::unique_lock lock(mu_);
        // The others leave once the running tasks are over.
        cv_.wait(lock, [&] { return running_ == 0; });
        threads.swap(threads_);
    }
    threads.clear();  // join
    std::lock_guard lock(mu_);
    if (error_) std::rethrow_exception(error_);
}

}  // namespace sealrun::content::detail
