// The background fsync: tickets, grouping, errors, and stopping with a request pending.
#include "io/background_sync.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <stdexcept>

namespace cs::io {
namespace {

TEST(BackgroundSync, RequestsDuringASyncShareTheNextOne) {
  std::atomic<int> syncs = 0;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  BackgroundSync sync([&] {
    if (syncs++ == 0) released.wait();  // the first sync blocks until the test lets it go
  });
  const auto first = sync.request();
  while (syncs == 0) std::this_thread::yield();  // it has begun
  const auto second = sync.request(), third = sync.request();
  EXPECT_EQ(sync.done(), 0u);
  release.set_value();
  sync.wait(third);
  EXPECT_GE(sync.done(), third);
  EXPECT_LT(first, second);
  EXPECT_EQ(syncs, 2);  // the two requests made during the first sync were served by one
}

TEST(BackgroundSync, AFailedSyncIsRethrownAndNothingLaterCountsAsDurable) {
  std::atomic<int> syncs = 0;
  BackgroundSync sync([&] {
    if (syncs++ == 1) throw std::runtime_error("fdatasync failed: EIO");
  });
  sync.wait(sync.request());
  EXPECT_EQ(sync.done(), 1u);
  const auto failing = sync.request();
  EXPECT_THROW(sync.wait(failing), std::runtime_error);
  EXPECT_THROW(sync.done(), std::runtime_error);
  EXPECT_THROW(sync.request(), std::runtime_error);
}

TEST(BackgroundSync, StopsWithARequestPendingWithoutWaitingForIt) {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> syncs = 0;
  std::thread releaser;
  {
    BackgroundSync sync([&] {
      if (syncs++ == 0) released.wait();
    });
    sync.request();
    while (syncs == 0) std::this_thread::yield();
    sync.request();  // pending behind the blocked one
    releaser = std::thread([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      release.set_value();
    });
  }  // joins after the sync in progress; the pending request is dropped
  releaser.join();
  EXPECT_EQ(syncs, 1);
}

}  // namespace
}  // namespace cs::io
