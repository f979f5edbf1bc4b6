// The catalog's page cache.
#include "actors/catalog/page_cache.hpp"

#include <cstdio>

namespace marketlink::actors {

std::string etag_of(std::string_view body) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : body) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char buf[24];
  std::snprintf(buf, sizeof buf, "\"%016llx\"", static_cast<unsigned long long>(h));
  return buf;
}

PageCache::PageCache(std::chrono::milliseconds max_age, std::size_t max_entries)
    : max_age_(max_age), max_entries_(max_entries) {}

std::shared_ptr<const CachedPage> PageCache::find(const std::string& key) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(key);
  if (it == entries_.end() || Clock::now() - it->second.stored >= max_age_) {
    ++misses_;
    return nullptr;
  }
  ++hits_;
  return it->second.page;
}

PageCache::Ticket PageCache::ticket() const {
  std::lock_guard lock(mutex_);
  return {generation_, Clock::now()};
}

std::shared_ptr<const CachedPage> PageCache::store(const std::string& key, const Ticket& ticket,
                                                   std::string body) {
  auto page = std::make_shared<CachedPage>();
  page->etag = etag_of(body);
  page->body = std::move(body);
  if (max_age_.count() <= 0) return page;
  const auto now = Clock::now();
  std::lock_guard lock(mutex_);
  if (ticket.generation != generation_) return page;
  if (entries_.size() >= max_entries_ && !entries_.contains(key)) {
    std::erase_if(entries_, [&](const auto& e) { return now - e.second.stored >= max_age_; });
    if (entries_.size() >= max_entries_) return page;
  }
  entries_[key] = Entry{page, ticket.taken};
  return page;
}

void PageCache::invalidate() {
  std::lock_guard lock(mutex_);
  ++generation_;
  entries_.clear();
}

std::size_t PageCache::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

uint64_t PageCache::hits() const {
  std::lock_guard lock(mutex_);
  return hits_;
}

uint64_t PageCache::misses() const {
  std::lock_guard lock(mutex_);
  return misses_;
}

}  // namespace marketlink::actors
