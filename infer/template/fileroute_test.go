package template

import "testing"

func TestFileRoutes(t *testing.T) {
	endpointTable{
		{
			name: "a route word with several extensions elsewhere takes a file name where one was seen",
			in: cat(
				seq("POST /invoices/%s/attachments/core-366.txt", "101", "102"),
				seq("POST /invoices/%s/attachments/ml-966.pdf", "103"),
				seq("GET /receipts/%s/attachments/sdk-693.md", "104"),
			),
			want: []string{
				"GET /receipts/{receiptId:integer/int64}/attachments/{filename:string}",
				"POST /invoices/{invoiceId:integer/int64}/attachments/{filename:string}",
			},
		},
		{
			name: "one extension across the tree stays a suffix",
			in: cat(
				seq("GET /posts/%s.json", "alpha-1", "beta-22", "gamma-333"),
				seq("GET /topics/%s/posts/late-42.json", "7", "8"),
			),
			want: []string{
				"GET /posts/{postName:string}.json",
				"GET /topics/{topicId:integer/int64}/posts/{postName:string}.json",
			},
		},
		{
			name: "extensions under different route words do not mix",
			in: cat(
				seq("GET /reports/%s.csv", "q1-2024", "q2-2024"),
				seq("GET /exports/%s.pdf", "run-11", "run-12"),
			),
			want: []string{
				"GET /exports/{exportName:string}.pdf",
				"GET /reports/{reportName:string}.csv",
			},
		},
	}.run(t)
}
