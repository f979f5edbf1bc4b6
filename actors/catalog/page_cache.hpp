// Rendered catalog pages kept in the process: the lists and details every customer sees alike are
// served without a database read. A page lives at most `max_age` (what bounds how late another
// process's catalog write, or a stock figure, shows here); a write in this process invalidates
// every page at once. Thread-safe; bounded in entries (a full cache stores nothing more until
// its pages age out), so no client input makes it grow without bound.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace marketlink::actors {

struct CachedPage {
  std::string body;
  std::string etag;  // a strong validator of the body: "\"<16 hex digits>\""
};

// A strong ETag of a body (FNV-1a, 64 bits: a cache validator, not a security check).
std::string etag_of(std::string_view body);

class PageCache {
 public:
  using Clock = std::chrono::steady_clock;
  // max_age 0 turns the cache off (nothing is stored).
  PageCache(std::chrono::milliseconds max_age, std::size_t max_entries);

  // The page under `key`, if stored and younger than max_age.
  std::shared_ptr<const CachedPage> find(const std::string& key);
  // Taken before a page is loaded: a page loaded across a write in this process is not
  // stored, and a page's age counts from the moment its load began.
  struct Ticket {
    uint64_t generation = 0;
    Clock::time_point taken;
  };
  Ticket ticket() const;
  // The rendered page (with its ETag); kept under `key` unless the catalog changed since the
  // ticket was taken, or the cache is off or full.
  std::shared_ptr<const CachedPage> store(const std::string& key, const Ticket& ticket,
                                          std::string body);
  // A catalog write in this process: every page is dropped.
  void invalidate();

  std::size_t size() const;
  uint64_t hits() const;
  uint64_t misses() const;

 private:
  struct Entry {
    std::shared_ptr<const CachedPage> page;
    Clock::time_point stored;
  };
  const std::chrono::milliseconds max_age_;
  const std::size_t max_entries_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
  uint64_t generation_ = 0;
  uint64_t hits_ = 0, misses_ = 0;
};

}  // namespace marketlink::actors
