// alipay-sdk writes request timestamps in the process's local time; the gateway reads them as
// Beijing time (its default zone), as Alipay does. Tests run as a client in Beijing would.
process.env.TZ = 'Asia/Shanghai';
