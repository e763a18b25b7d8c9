// loyaltyd: self-hosted loyalty and referral daemon. Everything is wired in src/app.
#include "app/cli.h"

int main(int argc, char** argv) { return loyaltyd::RunCli(argc, argv); }
