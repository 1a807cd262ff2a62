package template

import "testing"

// imageCollection are requests of a collection (images) addressed by
// type under three parents; logo and chapter are asked for under items
// only.
var imageCollection = cat(
	seq("GET /items/%s/images/primary/0", "101", "102"),
	seq("GET /items/%s/images/thumb/1", "103"),
	seq("GET /items/%s/images/banner/2", "104"),
	seq("GET /users/%s/images/primary/0", "201"),
	seq("GET /users/%s/images/thumb/3", "202"),
	seq("GET /users/%s/images/banner/1", "203"),
	seq("GET /users/%s/images/disc/1", "204"),
	seq("GET /genres/%s/images/disc/2", "301"),
	seq("GET /genres/%s/images/primary/5", "302"),
	seq("GET /genres/%s/images/thumb/4", "303"),
)

func TestCollectionPeers(t *testing.T) {
	endpointTable{
		{
			name: "a word asked for in one place only, routing like the collection's values there, is one",
			in:   cat(imageCollection, seq("GET /items/%s/images/logo/7", "105", "106")),
			want: []string{
				"GET /genres/{genreId:integer/int64}/images/{imageType:string}/{id:integer/int64}",
				"GET /items/{itemId:integer/int64}/images/{imageType:string}/{id:integer/int64}",
				"GET /users/{userId:integer/int64}/images/{imageType:string}/{id:integer/int64}",
			},
		},
		{
			name: "a leaf route beside addressing values stays a route",
			in:   cat(imageCollection, seq("POST /items/%s/images/upload", "105", "106")),
			want: []string{
				"GET /genres/{genreId:integer/int64}/images/{imageType:string}/{id:integer/int64}",
				"GET /items/{itemId:integer/int64}/images/{imageType:string}/{id:integer/int64}",
				"GET /users/{userId:integer/int64}/images/{imageType:string}/{id:integer/int64}",
				"POST /items/{itemId:integer/int64}/images/upload",
			},
		},
		{
			name: "a word with other methods below stays a route",
			in:   cat(imageCollection, seq("DELETE /items/%s/images/cache/7", "105", "106")),
			want: []string{
				"DELETE /items/{itemId:integer/int64}/images/cache/{cacheId:integer/int64}",
				"GET /genres/{genreId:integer/int64}/images/{imageType:string}/{id:integer/int64}",
				"GET /items/{itemId:integer/int64}/images/{imageType:string}/{id:integer/int64}",
				"GET /users/{userId:integer/int64}/images/{imageType:string}/{id:integer/int64}",
			},
		},
	}.run(t)
}
