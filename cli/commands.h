// SPDX-License-Identifier: Apache-2.0
//
// commands.h - the CLI's command and flag table (one source of truth for
// help and man pages).
#pragma once

typedef struct {
	const char *name;
	const char *usage;
	const char *summary;
	const char *details; /* nullable */
} CliCommand;

typedef struct {
	const char *name;
	const char *arg;
	const char *summary;
} CliFlag;

extern const CliCommand cli_commands[];
extern const CliFlag cli_flags[];
const CliCommand *cli_command_find(const char *name);
