-- rate_client_ip = 2/1h, rate_client_ipv6_prefix = 56: two addresses of
-- one /56 are one client; another /56 and IPv4 clients count alone.
package.path = os.getenv("MILTER_SCRIPTS") .. "/?.lua;" .. package.path
local lib = require("lib")
local limits = require("_limits")

local function from(client)
	return { ["{daemon_name}"] = "mx", ["{client_addr}"] = client }
end
lib.expect_message("v6 a", "eom:continue", nil, from("IPv6:2001:db8:0:1::1"), "<x@remote.test>")
lib.expect_message("v6 b, same /56", "eom:continue", nil, from("IPv6:2001:db8:0:ff::2"), "<y@remote.test>")
lib.expect_message("v6 c, same /56", "eom:reply", "rate_client_ip: 450 4.7.1", from("IPv6:2001:db8:0:2::3"), "<z@remote.test>")
lib.expect_message("v6 other /56", "eom:continue", nil, from("IPv6:2001:db8:0:100::1"), "<z@remote.test>")
lib.expect_message("v4 a", "eom:continue", nil, from("192.0.2.1"), "<x@remote.test>")
lib.expect_message("v4 a again", "eom:continue", nil, from("192.0.2.1"), "<x@remote.test>")
lib.expect_message("v4 a third", "eom:reply", "rate_client_ip: 450 4.7.1", from("192.0.2.1"), "<x@remote.test>")
lib.expect_message("v4 b", "eom:continue", nil, from("192.0.2.2"), "<x@remote.test>")
limits.tripped_once("rate_client_ip", "mx/ip/1h/2001:db8::/56")
