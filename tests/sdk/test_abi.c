// SPDX-License-Identifier: Apache-2.0
//
// test_abi.c - pins the layout of every struct a plugin fills (the
// descriptor, operations, stream, outlet and inlet callbacks) on LP64: a
// field that moves or a struct that changes size within ABI major 1 breaks
// every plugin built before, so such a change must fail here first. A new
// field takes a reserved slot; the slot count drops and the size stays.
#include <circuit/plugin.h>

#include <stddef.h>

#define PIN_OFFSET(type, field, want) g_assert_cmpuint(offsetof(type, field), ==, (want))

static void
test_descriptor(void)
{
	PIN_OFFSET(CircuitPluginDescriptor, abi_major, 0);
	PIN_OFFSET(CircuitPluginDescriptor, abi_minor, 4);
	PIN_OFFSET(CircuitPluginDescriptor, kind, 8);
	PIN_OFFSET(CircuitPluginDescriptor, version, 16);
	PIN_OFFSET(CircuitPluginDescriptor, summary, 24);
	PIN_OFFSET(CircuitPluginDescriptor, init, 32);
	PIN_OFFSET(CircuitPluginDescriptor, fini, 40);
	PIN_OFFSET(CircuitPluginDescriptor, make_args_usage, 48);
	PIN_OFFSET(CircuitPluginDescriptor, make_min_args, 56);
	PIN_OFFSET(CircuitPluginDescriptor, make_max_args, 60);
	PIN_OFFSET(CircuitPluginDescriptor, make_flags, 64);
	PIN_OFFSET(CircuitPluginDescriptor, create, 72);
	PIN_OFFSET(CircuitPluginDescriptor, peek, 80);
	PIN_OFFSET(CircuitPluginDescriptor, scrub, 88);
	PIN_OFFSET(CircuitPluginDescriptor, destroy, 96);
	PIN_OFFSET(CircuitPluginDescriptor, ops, 104);
	PIN_OFFSET(CircuitPluginDescriptor, n_ops, 112);
	/* ABI 1.2 took the first five reserved slots of 1.1. */
	PIN_OFFSET(CircuitPluginDescriptor, aliases, 120);
	PIN_OFFSET(CircuitPluginDescriptor, peek_plugin, 128);
	PIN_OFFSET(CircuitPluginDescriptor, options, 136);
	PIN_OFFSET(CircuitPluginDescriptor, reconfigure, 144);
	PIN_OFFSET(CircuitPluginDescriptor, status, 152);
	PIN_OFFSET(CircuitPluginDescriptor, reserved, 160);
	g_assert_cmpuint(sizeof(CircuitPluginDescriptor), ==, 184);
}

static void
test_op(void)
{
	PIN_OFFSET(CircuitOp, name, 0);
	PIN_OFFSET(CircuitOp, args_usage, 8);
	PIN_OFFSET(CircuitOp, summary, 16);
	PIN_OFFSET(CircuitOp, min_args, 24);
	PIN_OFFSET(CircuitOp, max_args, 28);
	PIN_OFFSET(CircuitOp, flags, 32);
	PIN_OFFSET(CircuitOp, run, 40);
	PIN_OFFSET(CircuitOp, reserved, 48);
	g_assert_cmpuint(sizeof(CircuitOp), ==, 80);
}

static void
test_option(void)
{
	PIN_OFFSET(CircuitPluginOption, key, 0);
	PIN_OFFSET(CircuitPluginOption, value_usage, 8);
	PIN_OFFSET(CircuitPluginOption, summary, 16);
	PIN_OFFSET(CircuitPluginOption, check, 24);
	PIN_OFFSET(CircuitPluginOption, flags, 32);
	g_assert_cmpuint(sizeof(CircuitPluginOption), ==, 48);
}

static void
test_funcs(void)
{
	PIN_OFFSET(CircuitStreamFuncs, input, 0);
	PIN_OFFSET(CircuitStreamFuncs, input_end, 8);
	PIN_OFFSET(CircuitStreamFuncs, writable, 16);
	PIN_OFFSET(CircuitStreamFuncs, closed, 24);
	g_assert_cmpuint(sizeof(CircuitStreamFuncs), ==, 64);
	PIN_OFFSET(CircuitOutletFuncs, ended, 0);
	PIN_OFFSET(CircuitOutletFuncs, resume, 8);
	PIN_OFFSET(CircuitOutletFuncs, unread, 16);
	g_assert_cmpuint(sizeof(CircuitOutletFuncs), ==, 48);
	PIN_OFFSET(CircuitInletFuncs, write, 0);
	PIN_OFFSET(CircuitInletFuncs, end, 8);
	g_assert_cmpuint(sizeof(CircuitInletFuncs), ==, 48);
}

static void
test_version(void)
{
	g_assert_cmpint(CIRCUIT_PLUGIN_ABI_MAJOR, ==, 1);
	g_assert_cmpint(CIRCUIT_PLUGIN_ABI_MINOR, ==, 2);
	/* Error codes travel on the wire and are never renumbered. */
	g_assert_cmpint(CIRCUIT_ERROR_CLOSED, ==, 5);
	g_assert_cmpint(CIRCUIT_ERROR_UNAVAILABLE, ==, 10);
	g_assert_cmpint(CIRCUIT_ERROR_PERMISSION, ==, 12);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	if (sizeof(void *) != 8) {
		g_test_skip("the pinned layout is the LP64 one");
		return g_test_run();
	}
	g_test_add_func("/sdk/abi/descriptor", test_descriptor);
	g_test_add_func("/sdk/abi/op", test_op);
	g_test_add_func("/sdk/abi/option", test_option);
	g_test_add_func("/sdk/abi/funcs", test_funcs);
	g_test_add_func("/sdk/abi/version", test_version);
	return g_test_run();
}
