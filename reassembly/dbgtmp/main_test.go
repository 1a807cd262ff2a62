package dbg
import ("testing";"time";"fmt";"github.com/specter-dev/specter/reassembly/http1")
type h struct{}
func (h) Request(r *http1.Request){fmt.Println("REQ",r.Method,r.Target)}
func (h) Response(r *http1.Response){fmt.Println("RESP",r.StatusCode, r.Flags, len(r.Body))}
func (h) PendingMethod() string {return "GET"}
func (h) Protocol(p http1.Protocol){fmt.Println("PROTO",p)}
func TestX(t *testing.T){
 c:=http1.DefaultConfig()
 p:=http1.NewParser(&c,h{})
 p.Feed([]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n0123456789"), time.Now())
 p.Gap(100, time.Now())
 p.Feed([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"), time.Now())
 fmt.Println(p.Stats())
}
