// SPDX-License-Identifier: Apache-2.0
//
// circuit/error.h - the error domain and codes that cross the wire, shared
// by plugins (plugin.h) and client programs (client.h): a client compares
// codes without including the plugin SDK.
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#if defined(__GNUC__)
#define CIRCUIT_EXPORT __attribute__((visibility("default")))
#else
#define CIRCUIT_EXPORT
#endif

/**
 * CIRCUIT_ERROR: the GError domain for every error that crosses the wire.
 * The code travels with the message, so a client can tell, for instance,
 * the end of a channel from a failure.
 */
#define CIRCUIT_ERROR (circuit_error_quark())
CIRCUIT_EXPORT GQuark circuit_error_quark(void);

/**
 * CircuitErrorCode: error codes of CIRCUIT_ERROR; their wire names are in
 * docs/protocol.md and must never be renumbered.
 */
typedef enum {
	CIRCUIT_ERROR_FAILED = 0,       /**< anything else ("failed") */
	CIRCUIT_ERROR_INVALID = 1,      /**< bad input from the user ("invalid") */
	CIRCUIT_ERROR_NOT_FOUND = 2,    /**< no such anchor/element/server ("not-found") */
	CIRCUIT_ERROR_EXISTS = 3,       /**< anchor already holds an element ("exists") */
	CIRCUIT_ERROR_BUSY = 4,         /**< resource held by another client ("busy") */
	CIRCUIT_ERROR_CLOSED = 5,       /**< end of a closed channel/feed ("closed") */
	CIRCUIT_ERROR_ABORTED = 6,      /**< element scrubbed while waiting ("aborted") */
	CIRCUIT_ERROR_WRONG_KIND = 7,   /**< operation not offered by that kind ("wrong-kind") */
	CIRCUIT_ERROR_DISCONNECTED = 8, /**< the peer went away ("disconnected") */
	CIRCUIT_ERROR_TOO_BIG = 9,      /**< over a size limit ("too-big") */
	CIRCUIT_ERROR_UNAVAILABLE = 10, /**< a needed service is missing ("unavailable") */
	CIRCUIT_ERROR_USAGE = 11,       /**< wrong arguments for the operation ("usage") */
	CIRCUIT_ERROR_PERMISSION = 12,  /**< the caller may not (ABI 1.2; "permission") */
} CircuitErrorCode;

G_END_DECLS
