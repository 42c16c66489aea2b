-- Hostile macros: empty, 900-byte long, non-numeric ports, a listener that
-- does not exist, close without MAIL.  The milter must answer each (never
-- crash, never accept on a macro it cannot trust) and keep serving.
package.path = os.getenv("MILTER_SCRIPTS") .. "/?.lua;" .. package.path
local lib = require("lib")

-- miltertest 2.11 sends no macro much past 900 bytes (a larger one ends
-- the script silently); 900 bytes is past what the milter keeps (320)
local long = string.rep("a", 900)

-- close right after negotiation
local c = lib.session({})
mt.disconnect(c)

-- no name, no port: unknown_listener = tempfail
c = lib.session({ ["{client_addr}"] = "192.0.2.1" })
lib.expect_mail("no listener", c, "<x@remote.test>", "unknown_listener: 451 4.3.0")
mt.disconnect(c)

for _, port in ipairs({ "", "25x", "-25", "99999", long }) do
	c = lib.session({ ["{daemon_port}"] = port, ["{client_addr}"] = "192.0.2.1" })
	lib.expect_mail("port of " .. #port .. " bytes", c, "<x@remote.test>",
		"unknown_listener: 451 4.3.0")
	mt.disconnect(c)
end

-- a 900-byte login cannot become a shorter login that owns the sender
c = lib.session({ ["{daemon_name}"] = "submission", ["{tls_version}"] = "TLSv1.3",
	["{client_addr}"] = "192.0.2.1", ["{auth_authen}"] = long, ["{auth_type}"] = "PLAIN" })
lib.expect_mail("900-byte login", c, "<" .. string.rep("a", 300) .. "@example.com>",
	"sender: 553 5.7.1")
mt.disconnect(c)

-- a 900-byte daemon name matches no listener
c = lib.session({ ["{daemon_name}"] = long, ["{client_addr}"] = "192.0.2.1" })
lib.expect_mail("900-byte daemon name", c, "<x@remote.test>", "unknown_listener: 451 4.3.0")
mt.disconnect(c)

-- (forged audit headers: removed on real Postfix, see
-- tests/integration/test_milter.py::test_report_mode_header_and_hmac;
-- miltertest 2.11 ends the script when the milter asks for no reply to
-- headers, SMFIP_NR_HDR)

-- still serving
c = lib.session({ ["{daemon_name}"] = "mx", ["{client_addr}"] = "192.0.2.1" })
lib.expect_mail("still alive", c, "<x@remote.test>", "continue")
mt.disconnect(c)
