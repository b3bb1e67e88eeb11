// In-process transport: each message still goes through encode/decode, as over MPI.
#include "orchestrator/transport.hpp"

#include <algorithm>

namespace cs::orchestrator {

class InProcessHub::Endpoint final : public Transport {
 public:
  Endpoint(InProcessHub& hub, int rank) : hub_(hub), rank_(rank) {}
  int rank() const override { return rank_; }

  void send(int destination, const Message& message) override {
    auto& box = *hub_.mailboxes_.at(static_cast<std::size_t>(destination));
    Envelope e{rank_, decode(encode(message))};
    {
      std::lock_guard lock(box.mutex);
      box.queue.push_back(std::move(e));
    }
    box.ready.notify_one();
  }

  std::optional<Envelope> receive(std::chrono::milliseconds timeout) override {
    auto& box = *hub_.mailboxes_[static_cast<std::size_t>(rank_)];
    std::unique_lock lock(box.mutex);
    if (!box.ready.wait_for(lock, timeout, [&] { return !box.queue.empty(); })) return std::nullopt;
    Envelope e = std::move(box.queue.front());
    box.queue.pop_front();
    return e;
  }

  std::optional<Envelope> receive_tagged(int tag) override {
    auto& box = *hub_.mailboxes_[static_cast<std::size_t>(rank_)];
    std::lock_guard lock(box.mutex);
    const auto it =
        std::find_if(box.queue.begin(), box.queue.end(), [tag](const Envelope& e) { return tag_of(e.message) == tag; });
    if (it == box.queue.end()) return std::nullopt;
    Envelope e = std::move(*it);
    box.queue.erase(it);
    return e;
  }

 private:
  InProcessHub& hub_;
  int rank_;
};

InProcessHub::InProcessHub(int size) {
  for (int r = 0; r < size; ++r) {
    mailboxes_.push_back(std::make_unique<Mailbox>());
    endpoints_.push_back(std::make_unique<Endpoint>(*this, r));
  }
}

InProcessHub::~InProcessHub() = default;

Transport& InProcessHub::endpoint(int rank) { return *endpoints_.at(static_cast<std::size_t>(rank)); }

}  // namespace cs::orchestrator
