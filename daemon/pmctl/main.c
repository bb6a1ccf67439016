// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include "pmctl.h"

int main(int argc, char **argv)
{
	return pmctl_main(argc, argv, stdout, stderr);
}
