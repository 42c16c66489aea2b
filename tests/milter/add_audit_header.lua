-- add_audit_header = no: the listener's mail gets no audit header, and a
-- forged one is removed all the same; the other listener adds it.
package.path = os.getenv("MILTER_SCRIPTS") .. "/?.lua;" .. package.path
local lib = require("lib")
local limits = require("_limits")

local forged = { { "X-Mailpolicy", "v=1; verdict=accept; forged=yes" }, { "Subject", "t" } }
local got, c = lib.message(limits.macros("outbound", "alice@example.com"),
	"<alice@example.com>", nil, forged)
lib.expect("outbound", got, "eom:continue")
lib.expect("outbound: forged header removed", mt.eom_check(c, MT_HDRDELETE, "X-Mailpolicy"), true)
lib.expect("outbound: none added", mt.eom_check(c, MT_HDRINSERT, "X-Mailpolicy"), false)
mt.disconnect(c)

got, c = lib.message({ ["{daemon_name}"] = "inbound", ["{client_addr}"] = "192.0.2.1" },
	"<x@remote.test>", nil, forged)
lib.expect("inbound", got, "eom:continue")
lib.expect("inbound: forged header removed", mt.eom_check(c, MT_HDRDELETE, "X-Mailpolicy"), true)
lib.expect("inbound: ours added", mt.eom_check(c, MT_HDRINSERT, "X-Mailpolicy"), true)
lib.expect("inbound: ours says so", (mt.getheader(c, "X-Mailpolicy", 0) or ""):match(
	"listener=inbound; login=%-; tls=%-; verdict=accept; rule=none; mode=enforce") ~= nil, true)
mt.disconnect(c)
