// The seed tutorial's broadcast chat server (gorilla/websocket): a map of
// clients, a broadcast channel, and a handleMessages loop that writes every
// message to every client with WriteJSON.
//
// One change from the tutorial: a mutex guards the clients map. The tutorial
// writes it from each connection's goroutine while handleMessages ranges over
// it, which the Go runtime aborts ("concurrent map iteration and map write")
// as soon as clients connect during a broadcast, as they do here.
//
// Usage: go build -o seed-go . && ./seed-go -addr 127.0.0.1:8000
package main

import (
	"flag"
	"log"
	"net/http"
	"sync"

	"github.com/gorilla/websocket"
)

var clients = make(map[*websocket.Conn]bool) // connected clients
var clientsMu sync.Mutex
var broadcast = make(chan Message) // broadcast channel

var upgrader = websocket.Upgrader{}

// Message is the chat message shape.
type Message struct {
	Email    string `json:"email"`
	Username string `json:"username"`
	Message  string `json:"message"`
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8000", "listen address")
	flag.Parse()
	http.HandleFunc("/ws", handleConnections)
	go handleMessages()
	log.Fatal(http.ListenAndServe(*addr, nil))
}

func handleConnections(w http.ResponseWriter, r *http.Request) {
	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		log.Printf("error: %v", err)
		return
	}
	defer ws.Close()
	clientsMu.Lock()
	clients[ws] = true
	clientsMu.Unlock()
	for {
		var msg Message
		err := ws.ReadJSON(&msg)
		if err != nil {
			clientsMu.Lock()
			delete(clients, ws)
			clientsMu.Unlock()
			break
		}
		broadcast <- msg
	}
}

func handleMessages() {
	for {
		msg := <-broadcast
		clientsMu.Lock()
		for client := range clients {
			err := client.WriteJSON(msg)
			if err != nil {
				log.Printf("error: %v", err)
				client.Close()
				delete(clients, client)
			}
		}
		clientsMu.Unlock()
	}
}
