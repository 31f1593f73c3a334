#include "gateway/connections.h"

#include <catch2/catch.hpp>

using serambi::gateway::ConnectionTable;

TEST_CASE("pending handshakes are bounded in all and per network, the oldest giving way") {
    ConnectionTable table({10, 5, 4, 2});
    std::vector<std::string> closed;
    auto open = [&](const std::string& address, const std::string& name) {
        return table.begin_handshake(address, [&closed, name] { closed.push_back(name); });
    };
    open("10.0.0.1", "a1");
    open("10.0.0.9", "a2");  // the same /24
    open("10.0.0.1", "a3");  // a third from that network: its oldest gives way
    CHECK(closed == std::vector<std::string>{"a1"});
    const auto b1 = open("10.0.1.1", "b1");
    CHECK(table.pending() == 3);
    open("2001:db8:1:2::7", "c1");
    open("2001:db8:1:2:ffff::1", "c2");  // the same /64, a different host: still 2 allowed
    // Full (4): the oldest of all gives way, whoever it is.
    CHECK(closed == std::vector<std::string>{"a1", "a2"});
    table.end_handshake(b1);  // finished: no longer pending, never closed by the table
    open("192.0.2.1", "d1");
    CHECK(closed == std::vector<std::string>{"a1", "a2"});
    CHECK(table.pending() == 4);
    CHECK(table.refused_pending() == 2);
}

TEST_CASE("networks: an IPv4 /24, an IPv6 /64, mapped addresses as IPv4") {
    CHECK(ConnectionTable::network_of("192.0.2.77") == "192.0.2");
    CHECK(ConnectionTable::network_of("::ffff:192.0.2.77") == "192.0.2");
    CHECK(ConnectionTable::network_of("2001:db8:1:2:3:4:5:6") == "2001:db8:1:2");
    CHECK(ConnectionTable::network_of("2001:db8:1:2::9") == ConnectionTable::network_of("2001:db8:1:2:aaaa::1"));
    CHECK(ConnectionTable::network_of("2001:db8:1:3::9") != ConnectionTable::network_of("2001:db8:1:2::9"));
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
    // One chosen while it was busy counts again until it closes.
    table.reinstate(ids[2]);
    table.set_idle(ids[0], true);
    CHECK(table.admit("t", [] {}).result == ConnectionTable::Admit::ok);  // makes room by closing 0
    CHECK(closed == std::vector<int>{1, 2, 0});
    CHECK(table.admit("u", [] {}).result == ConnectionTable::Admit::full);  // 2 counts again: no room
    table.release(ids[1]);
    table.release(ids[2]);
    CHECK(table.established() == 4);
    CHECK(table.evicted() == 3);
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
