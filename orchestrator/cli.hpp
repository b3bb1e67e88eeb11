// The carbonsweep command line: subcommands, their options, and exit codes.
#pragma once

namespace cs::orchestrator {

/// Exit codes: 0 success, 1 an internal or runtime failure, 2 bad input (study file,
/// flags, paths); every error is one line on stderr.
int cli_main(int argc, char** argv);

}  // namespace cs::orchestrator
