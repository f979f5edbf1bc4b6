// PageCache: what it keeps, what a write drops, and its bound on entries.
#include "actors/catalog/page_cache.hpp"

#include <gtest/gtest.h>

using marketlink::actors::etag_of;
using marketlink::actors::PageCache;
using namespace std::chrono_literals;

TEST(PageCache, KeepsAPageUnderItsKeyWithItsETag) {
  PageCache cache(60s, 8);
  EXPECT_EQ(cache.find("a"), nullptr);
  auto stored = cache.store("a", cache.ticket(), "{\"x\":1}");
  EXPECT_EQ(stored->etag, etag_of("{\"x\":1}"));
  auto hit = cache.find("a");
  ASSERT_NE(hit, nullptr);
  EXPECT_EQ(hit->body, "{\"x\":1}");
  EXPECT_EQ(cache.hits(), 1u);
  EXPECT_EQ(cache.misses(), 1u);
  EXPECT_NE(etag_of("{\"x\":1}"), etag_of("{\"x\":2}"));
  EXPECT_EQ(etag_of("").size(), 18u) << "a quoted 16-digit validator";
}

TEST(PageCache, APageLoadedAcrossAWriteIsNotKept) {
  PageCache cache(60s, 8);
  cache.store("a", cache.ticket(), "old");
  const auto ticket = cache.ticket();  // a load begins...
  cache.invalidate();                  // ...a write lands meanwhile
  auto page = cache.store("b", ticket, "read before the write");
  EXPECT_EQ(page->body, "read before the write") << "the caller still gets its page";
  EXPECT_EQ(cache.find("a"), nullptr) << "the write dropped every page";
  EXPECT_EQ(cache.find("b"), nullptr) << "and the stale load is not kept";
  cache.store("b", cache.ticket(), "new");
  EXPECT_NE(cache.find("b"), nullptr);
}

TEST(PageCache, APageAgesFromTheMomentItsLoadBegan) {
  PageCache cache(60s, 8);
  auto old = cache.ticket();
  old.taken -= 61s;
  cache.store("a", old, "loaded long ago");
  EXPECT_EQ(cache.find("a"), nullptr);
}

TEST(PageCache, IsBoundedAndCanBeOff) {
  PageCache cache(60s, 2);
  cache.store("a", cache.ticket(), "1");
  cache.store("b", cache.ticket(), "2");
  cache.store("c", cache.ticket(), "3");
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.find("c"), nullptr);
  cache.store("a", cache.ticket(), "1 again");
  EXPECT_EQ(cache.find("a")->body, "1 again") << "a key already held is replaced";
  PageCache off(0ms, 8);
  EXPECT_EQ(off.store("a", off.ticket(), "x")->body, "x");
  EXPECT_EQ(off.find("a"), nullptr);
  EXPECT_EQ(off.size(), 0u);
}
