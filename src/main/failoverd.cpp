#include "failoverd/daemon/daemon.h"

int main(int argc, char** argv) { return failoverd::daemon::main(argc, argv); }
