// The carbonsweep executable.
#include "orchestrator/cli.hpp"

int main(int argc, char** argv) { return cs::orchestrator::cli_main(argc, argv); }
