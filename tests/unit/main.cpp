#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "crypto/crypto.h"

int main(int argc, char** argv) {
    if (!serambi::crypto::initialise()) return 1;
    return Catch::Session().run(argc, argv);
}
