/* plumb: a declarative infrastructure reconciler for AWS. See README.md and docs/. */
#include "cli/cli.h"

int main(int argc, char **argv)
{
    return plumb_cli_main(argc, argv);
}
