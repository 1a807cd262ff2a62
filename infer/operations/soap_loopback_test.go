package operations_test

import (
	"bufio"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/specter-dev/specter/capture/corpus"
)

// soapWSDL is the service node-soap serves: two document/literal
// operations with their SOAPActions.
const soapWSDL = `<?xml version="1.0" encoding="UTF-8"?>
<definitions name="StockService" targetNamespace="http://example.com/stock"
  xmlns:tns="http://example.com/stock" xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/"
  xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns="http://schemas.xmlsoap.org/wsdl/">
  <types>
    <xsd:schema targetNamespace="http://example.com/stock" elementFormDefault="qualified">
      <xsd:element name="GetPrice"><xsd:complexType><xsd:sequence><xsd:element name="symbol" type="xsd:string"/></xsd:sequence></xsd:complexType></xsd:element>
      <xsd:element name="GetPriceResponse"><xsd:complexType><xsd:sequence><xsd:element name="price" type="xsd:float"/></xsd:sequence></xsd:complexType></xsd:element>
      <xsd:element name="SetPrice"><xsd:complexType><xsd:sequence><xsd:element name="symbol" type="xsd:string"/><xsd:element name="price" type="xsd:float"/></xsd:sequence></xsd:complexType></xsd:element>
      <xsd:element name="SetPriceResponse"><xsd:complexType><xsd:sequence><xsd:element name="ok" type="xsd:boolean"/></xsd:sequence></xsd:complexType></xsd:element>
    </xsd:schema>
  </types>
  <message name="GetPriceInput"><part name="parameters" element="tns:GetPrice"/></message>
  <message name="GetPriceOutput"><part name="parameters" element="tns:GetPriceResponse"/></message>
  <message name="SetPriceInput"><part name="parameters" element="tns:SetPrice"/></message>
  <message name="SetPriceOutput"><part name="parameters" element="tns:SetPriceResponse"/></message>
  <portType name="StockPortType">
    <operation name="GetPrice"><input message="tns:GetPriceInput"/><output message="tns:GetPriceOutput"/></operation>
    <operation name="SetPrice"><input message="tns:SetPriceInput"/><output message="tns:SetPriceOutput"/></operation>
  </portType>
  <binding name="StockBinding" type="tns:StockPortType">
    <soap:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>
    <operation name="GetPrice"><soap:operation soapAction="http://example.com/stock/GetPrice"/><input><soap:body use="literal"/></input><output><soap:body use="literal"/></output></operation>
    <operation name="SetPrice"><soap:operation soapAction="http://example.com/stock/SetPrice"/><input><soap:body use="literal"/></input><output><soap:body use="literal"/></output></operation>
  </binding>
  <service name="StockService"><port name="StockPort" binding="tns:StockBinding"><soap:address location="http://127.0.0.1/stock"/></port></service>
</definitions>
`

const soapServer = `
const http = require('http'), fs = require('fs'), soap = require('soap');
const service = { StockService: { StockPort: {
  GetPrice(args) {
    if (args.symbol === 'NONE') throw { Fault: { faultcode: 'soap:Client', faultstring: 'unknown symbol' } };
    return { price: 1.5 };
  },
  SetPrice(args) { return { ok: true }; },
} } };
const server = http.createServer((req, res) => { res.statusCode = 404; res.end(); });
server.listen(0, '127.0.0.1', () => {
  soap.listen(server, '/stock', service, fs.readFileSync(process.argv[2], 'utf8'));
  console.log('listening ' + server.address().port);
});
`

// soapClient calls every operation with SOAP 1.1 (one of them answered
// with a Fault) and one with SOAP 1.2.
const soapClient = `
const soap = require('soap');
(async () => {
  const url = process.argv[2];
  const c11 = await soap.createClientAsync(url + '?wsdl'); c11.setEndpoint(url);
  await c11.GetPriceAsync({ symbol: 'ACME' });
  await c11.SetPriceAsync({ symbol: 'ACME', price: 2.5 });
  try { await c11.GetPriceAsync({ symbol: 'NONE' }); } catch (e) { }
  const c12 = await soap.createClientAsync(url + '?wsdl', { forceSoap12Headers: true }); c12.setEndpoint(url);
  await c12.SetPriceAsync({ symbol: 'B', price: 1 });
})().catch(e => { console.error(e.message); process.exit(1); });
`

// wsdlActions is the SOAPAction of every operation of the WSDL's bindings.
func wsdlActions(t *testing.T, wsdl string) []string {
	t.Helper()
	var doc struct {
		Bindings []struct {
			Operations []struct {
				SOAP struct {
					Action string `xml:"soapAction,attr"`
				} `xml:"http://schemas.xmlsoap.org/wsdl/soap/ operation"`
			} `xml:"operation"`
		} `xml:"binding"`
	}
	if err := xml.Unmarshal([]byte(wsdl), &doc); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, b := range doc.Bindings {
		for _, o := range b.Operations {
			out = append(out, o.SOAP.Action)
		}
	}
	return out
}

// TestSOAPLoopback drives node-soap's server with node-soap's client (SOAP
// 1.1 and 1.2) on loopback, captures live, and scores the actions found
// against the WSDL's.
func TestSOAPLoopback(t *testing.T) {
	modules := corpus.NodeModules(t, "soap/package.json", "run make test-deps")
	dir := t.TempDir()
	for name, text := range map[string]string{"stock.wsdl": soapWSDL, "server.js": soapServer, "client.js": soapClient} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	env := append(os.Environ(), "NODE_PATH="+modules)
	srv := exec.Command("node", filepath.Join(dir, "server.js"), filepath.Join(dir, "stock.wsdl"))
	srv.Env = env
	out, err := srv.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	ports := make(chan int, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if p, ok := strings.CutPrefix(sc.Text(), "listening "); ok {
				n, _ := strconv.Atoi(p)
				ports <- n
			}
		}
	}()
	var port int
	select {
	case port = <-ports:
	case <-time.After(30 * time.Second):
		t.Fatal("the node-soap server did not start")
	}
	base := "http://127.0.0.1:" + strconv.Itoa(port) + "/stock"
	// One WSDL fetch (node-soap caches it for the second client) and four
	// calls.
	m := captureLoopbackN(t, port, func() int64 { return 5 }, func() {
		cli := exec.Command("node", filepath.Join(dir, "client.js"), base)
		cli.Env = env
		if b, err := cli.CombinedOutput(); err != nil {
			t.Errorf("client: %v\n%s", err, b)
		}
	})
	inv := inventory(m)
	actions := wsdlActions(t, soapWSDL)
	found := 0
	for _, a := range actions {
		for _, s := range inv {
			if s.Protocol == "soap" && s.Name == a {
				found++
				break
			}
		}
	}
	score := float64(found) / float64(len(actions))
	t.Logf("soap: %d actions found of %d in the WSDL (%.3f)", found, len(actions), score)
	if score < 0.95 {
		t.Errorf("score %.3f < 0.95; inventory %v", score, inv)
	}
	get, set := inv["soap http://example.com/stock/GetPrice (1.1)"], inv["soap http://example.com/stock/SetPrice (1.1 1.2)"]
	if get.Count != 2 || get.Errors != 1 || strings.Join(get.Fields, " ") != "GetPrice(symbol)" {
		t.Errorf("GetPrice: %+v, want 2 calls, 1 fault, GetPrice(symbol)", get)
	}
	if set.Count != 2 || strings.Join(set.Fields, " ") != "SetPrice(price,symbol)" {
		t.Errorf("SetPrice: %+v, want 2 calls over SOAP 1.1 and 1.2, SetPrice(price,symbol)", set)
	}
	if len(inv) != len(actions) {
		t.Errorf("%d operations in the inventory, want %d: %v", len(inv), len(actions), inv)
	}
}
