// How the coordinator and workers exchange messages: MPI between ranks, or in-process queues.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "orchestrator/protocol.hpp"

namespace cs::orchestrator {

struct Envelope {
  int source = 0;
  Message message;
};

class Transport {
 public:
  virtual ~Transport() = default;
  virtual int rank() const = 0;
  /// Thread-safe: a worker's heartbeat thread sends beside its main thread.
  virtual void send(int destination, const Message& message) = 0;
  /// Waits up to `timeout` for a message from any rank.
  virtual std::optional<Envelope> receive(std::chrono::milliseconds timeout) = 0;
  /// A message whose tag is `tag` (tag_of), if one has arrived; does not wait. A worker looks
  /// for an Interrupt this way in the middle of a trial, leaving other messages queued.
  virtual std::optional<Envelope> receive_tagged(int tag) = 0;
};

/// Mailboxes for `size` endpoints in one process: the one-rank mode and the tests.
class InProcessHub {
 public:
  explicit InProcessHub(int size);
  ~InProcessHub();
  Transport& endpoint(int rank);

 private:
  struct Mailbox {
    std::mutex mutex;
    std::condition_variable ready;
    std::deque<Envelope> queue;
  };
  class Endpoint;
  std::vector<std::unique_ptr<Mailbox>> mailboxes_;
  std::vector<std::unique_ptr<Endpoint>> endpoints_;
};

}  // namespace cs::orchestrator
