#include <catch2/catch.hpp>

#include "gateway/connections.h"

using serambi::gateway::ConnectionTable;

TEST_CASE("pending handshakes are bounded in all and per address") {
    ConnectionTable table({10, 5, 4, 2});
    CHECK(table.begin_handshake("10.0.0.1") == ConnectionTable::Pending::ok);
    CHECK(table.begin_handshake("10.0.0.1") == ConnectionTable::Pending::ok);
    CHECK(table.begin_handshake("10.0.0.1") == ConnectionTable::Pending::too_many_from_address);
    CHECK(table.begin_handshake("10.0.0.2") == ConnectionTable::Pending::ok);
    CHECK(table.begin_handshake("10.0.0.3") == ConnectionTable::Pending::ok);
    CHECK(table.begin_handshake("10.0.0.4") == ConnectionTable::Pending::too_many);
    CHECK(table.pending() == 4);
    table.end_handshake("10.0.0.1");
    CHECK(table.begin_handshake("10.0.0.1") == ConnectionTable::Pending::ok);
    CHECK(table.refused_pending() == 2);
}

TEST_CASE("a full table closes the longest-idle connection to make room, and refuses only when all are busy") {
    ConnectionTable table({3, 3, 10, 10});
    std::vector<int> closed;
    std::vector<ConnectionTable::Id> ids;
    for (int i = 0; i < 3; ++i) {
        auto a = table.admit("p" + std::to_string(i), [&closed, i] { closed.push_back(i); });
        REQUIRE(a.result == ConnectionTable::Admit::ok);
        ids.push_back(a.id);
    }
    // All busy: the newcomer is refused and nobody is closed.
    auto refused = table.admit("q", [] {});
    CHECK(refused.result == ConnectionTable::Admit::full);
    CHECK(closed.empty());
    // Two go idle, 1 first: it is the one closed.
    table.set_idle(ids[1], true);
    table.set_idle(ids[2], true);
    auto admitted = table.admit("q", [] {});
    CHECK(admitted.result == ConnectionTable::Admit::ok);
    CHECK(closed == std::vector<int>{1});
    // A connection chosen once is never chosen again, even while it has not closed yet.
    auto next = table.admit("r", [] {});
    CHECK(next.result == ConnectionTable::Admit::ok);
    CHECK(closed == std::vector<int>{1, 2});
    CHECK(table.admit("s", [] {}).result == ConnectionTable::Admit::full);
    table.release(ids[1]);
    table.release(ids[2]);
    CHECK(table.established() == 3);
    CHECK(table.evicted() == 2);
}

TEST_CASE("one principal cannot hold more than its share, and makes room among its own") {
    ConnectionTable table({100, 2, 10, 10});
    std::vector<std::string> closed;
    auto a = table.admit("bi-malut", [&] { closed.push_back("a"); });
    auto b = table.admit("bi-malut", [&] { closed.push_back("b"); });
    auto other = table.admit("dinkes", [&] { closed.push_back("other"); });
    table.set_idle(other.id, true);  // idle, but another principal's: never taken for bi-malut
    CHECK(table.admit("bi-malut", [] {}).result == ConnectionTable::Admit::principal_full);
    table.set_idle(b.id, true);
    CHECK(table.admit("bi-malut", [] {}).result == ConnectionTable::Admit::ok);
    CHECK(closed == std::vector<std::string>{"b"});
    table.release(a.id);
    CHECK(table.admit("bi-malut", [] {}).result == ConnectionTable::Admit::ok);
}
